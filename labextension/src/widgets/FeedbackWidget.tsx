/** One released feedback page in a Lab tab: the service's HTML inside a sandboxed iframe (no scripts, own origin). */
import React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { graderIcon } from '../icons';
import { frameDocument } from '../model/feedbackHtml';

export class FeedbackWidget extends ReactWidget {
  constructor(
    private readonly html: string,
    title: string
  ) {
    super();
    this.title.label = title;
    this.title.caption = title;
    this.title.icon = graderIcon;
    this.title.closable = true;
    this.addClass('jp-GraderFeedbackWidget');
  }

  protected render(): JSX.Element {
    // sandbox="" : no scripts, no forms, an opaque origin: student output in the page cannot reach Lab
    return (
      <iframe
        className="jp-GraderFeedback-frame"
        title={this.title.label}
        sandbox=""
        srcDoc={frameDocument(this.html)}
      />
    );
  }
}
