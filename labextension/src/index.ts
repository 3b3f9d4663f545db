/**
 * Grader Service in JupyterLab. One plugin: the `grader:open-assignments` command (palette and launcher)
 * opens the student's assignments; `grader:open-feedback` opens a released feedback page in a tab. At start
 * it asks the relay whether it is there and configured, and says how to fix it when not.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { getFeedbackPage, relayStatus } from './api/grader';
import { GraderError, messageOf } from './api/request';
import type { Assignment, Submission } from './api/types';
import { graderIcon } from './icons';
import { AssignmentsWidget, LabGraderUI } from './widgets/AssignmentsWidget';
import { FeedbackWidget } from './widgets/FeedbackWidget';

export const COMMANDS = {
  openAssignments: 'grader:open-assignments',
  openFeedback: 'grader:open-feedback'
} as const;
const CATEGORY = 'Grader';

async function checkRelay(): Promise<void> {
  try {
    const status = await relayStatus();
    if (status.service !== 'ok') {
      Notification.warning(
        `Grader: the service at ${status.service_url} is not available (${status.service}).`,
        {
          autoClose: false
        }
      );
    } else if (!status.authenticated) {
      Notification.warning(
        "Grader: the service does not accept this server's token: log in again through JupyterHub.",
        {
          autoClose: false
        }
      );
    }
  } catch (e) {
    const hint =
      e instanceof GraderError && e.status === 404
        ? 'the server extension grader_labextension is not enabled: run `jupyter server extension enable grader_labextension` and restart'
        : messageOf(e);
    Notification.error(`Grader: ${hint}`, { autoClose: false });
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'grader-labextension:plugin',
  description: 'Lectures, assignments, validate, submit, results and feedback from the Grader Service.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ICommandPalette, ILauncher, ILayoutRestorer, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<AssignmentsWidget>>({ namespace: 'grader-assignments' });
    const feedbackTracker = new WidgetTracker<MainAreaWidget<FeedbackWidget>>({
      namespace: 'grader-feedback'
    });

    const openFeedback = async (
      assignment: Assignment,
      submission: Submission,
      page: string
    ): Promise<void> => {
      await app.commands.execute(COMMANDS.openFeedback, {
        lecture: assignment.lecture_id,
        assignment: assignment.id,
        submission: submission.id,
        page,
        title: `Feedback: ${assignment.name} #${submission.id}`
      });
    };
    const ui = new LabGraderUI({ app, docManager, fileBrowser, openFeedback });

    app.commands.addCommand(COMMANDS.openAssignments, {
      label: 'Assignments',
      caption: 'Your lectures and assignments: fetch, validate, submit, results and feedback',
      icon: args => (args.isPalette ? undefined : graderIcon),
      execute: () => {
        let widget = tracker.currentWidget;
        if (!widget || widget.isDisposed) {
          widget = new MainAreaWidget({ content: new AssignmentsWidget(ui) });
          widget.id = 'grader-assignments-main';
          widget.title.label = 'Assignments';
          widget.title.icon = graderIcon;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    app.commands.addCommand(COMMANDS.openFeedback, {
      label: 'Open Feedback',
      execute: async args => {
        const { lecture, assignment, submission, page, title } = args as {
          lecture: number;
          assignment: number;
          submission: number;
          page: string;
          title: string;
        };
        const id = `grader-feedback-${submission}-${page}`;
        const open = feedbackTracker.find(w => w.id === id);
        if (open) {
          app.shell.activateById(id);
          return open;
        }
        try {
          const html = await getFeedbackPage(lecture, assignment, submission, page);
          const widget = new MainAreaWidget({ content: new FeedbackWidget(html, title) });
          widget.id = id;
          widget.title.label = title;
          widget.title.icon = graderIcon;
          void feedbackTracker.add(widget);
          app.shell.add(widget, 'main');
          app.shell.activateById(id);
          return widget;
        } catch (e) {
          Notification.error(`Feedback could not be opened: ${messageOf(e)}`, { autoClose: false });
        }
      }
    });

    palette?.addItem({ command: COMMANDS.openAssignments, category: CATEGORY });
    launcher?.add({ command: COMMANDS.openAssignments, category: CATEGORY, rank: 1 });
    if (restorer) {
      void restorer.restore(tracker, { command: COMMANDS.openAssignments, name: () => 'grader-assignments' });
    }
    void checkRelay();
    document.body.dataset.graderLabextension = 'activated';
  }
};

export default plugin;
