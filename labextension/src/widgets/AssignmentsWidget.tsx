/** The assignments panel as a Lab widget, and the JupyterLab side of IGraderUI (file browser, Dialog, Notification). */
import React from 'react';
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { listSubmissions } from '../api/grader';
import type { Assignment, IValidationReport, Submission } from '../api/types';
import { AssignmentsPanel } from '../components/AssignmentsPanel';
import type { IGraderUI } from '../components/ui';
import { ValidationReport } from '../components/ValidationReport';
import { graderIcon } from '../icons';
import { SubmissionWatcher } from '../model/watcher';

export interface ILabServices {
  app: JupyterFrontEnd;
  docManager: IDocumentManager;
  fileBrowser: IDefaultFileBrowser | null;
  openFeedback(assignment: Assignment, submission: Submission, page: string): Promise<void>;
}

export class LabGraderUI implements IGraderUI {
  pollInterval = 2000;
  readonly watcher = new SubmissionWatcher(listSubmissions, (kind, text) => this.notify(kind, text), 3000);

  constructor(private readonly lab: ILabServices) {}

  async openFolder(path: string): Promise<void> {
    if (this.lab.fileBrowser) {
      await this.lab.fileBrowser.model.cd(`/${path}`);
      this.lab.app.shell.activateById(this.lab.fileBrowser.id);
    }
  }

  async openFile(path: string): Promise<void> {
    this.lab.docManager.openOrReveal(path);
  }

  private contextsUnder(folder: string): DocumentRegistry.Context[] {
    const prefix = folder ? `${folder}/` : '';
    const found = new Map<string, DocumentRegistry.Context>();
    for (const widget of this.lab.app.shell.widgets('main')) {
      const context = this.lab.docManager.contextForWidget(widget);
      if (context && context.path.startsWith(prefix)) {
        found.set(context.path, context);
      }
    }
    return [...found.values()];
  }

  async saveDocuments(folder: string): Promise<void> {
    await Promise.all(
      this.contextsUnder(folder)
        .filter(c => c.model.dirty)
        .map(c => c.save())
    );
  }

  async revertDocuments(folder: string): Promise<void> {
    await Promise.all(this.contextsUnder(folder).map(c => c.revert()));
  }

  async confirmSubmit(assignment: Assignment, files: string[], warnings: string[]): Promise<boolean> {
    const body = (
      <div className="jp-GraderConfirm">
        <p>These files of {assignment.name} go in:</p>
        <ul className="jp-GraderConfirm-files">
          {files.map(f => (
            <li key={f}>{f}</li>
          ))}
        </ul>
        {warnings.map(w => (
          <p key={w} className="jp-GraderWarning" role="alert">
            {w}
          </p>
        ))}
      </div>
    );
    const result = await showDialog({
      title: `Submit ${assignment.name}?`,
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Submit' })]
    });
    return result.button.accept;
  }

  async confirmReset(assignment: Assignment, path: string): Promise<boolean> {
    const result = await showDialog({
      title: `Reset ${assignment.name}?`,
      body: (
        <p>
          Every file in {path} goes back to the released version. Your current files are copied to a backup
          folder first, so nothing is lost.
        </p>
      ),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Reset' })]
    });
    return result.button.accept;
  }

  async showValidation(assignment: Assignment, report: IValidationReport): Promise<void> {
    await showDialog({
      title: `Validation of ${assignment.name}`,
      body: <ValidationReport report={report} />,
      buttons: [Dialog.okButton({ label: 'Close' })]
    });
  }

  openFeedback(assignment: Assignment, submission: Submission, page: string): Promise<void> {
    return this.lab.openFeedback(assignment, submission, page);
  }

  notify(kind: 'success' | 'info' | 'warning' | 'error', message: string): void {
    Notification.emit(message, kind, { autoClose: kind === 'error' ? false : 6000 });
  }
}

export class AssignmentsWidget extends ReactWidget {
  constructor(private readonly ui: IGraderUI) {
    super();
    this.id = 'grader-assignments';
    this.title.label = 'Assignments';
    this.title.caption = 'Grader: your lectures and assignments';
    this.title.icon = graderIcon;
    this.addClass('jp-GraderAssignmentsWidget');
  }

  protected render(): JSX.Element {
    return <AssignmentsPanel ui={this.ui} />;
  }
}
