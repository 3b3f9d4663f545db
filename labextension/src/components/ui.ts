/**
 * What the components need from JupyterLab, as one interface: the widget implements it with the file
 * browser, Dialog and Notification; the unit tests pass a recording implementation.
 */
import type { Assignment, IValidationReport, Submission } from '../api/types';
import type { SubmissionWatcher } from '../model/watcher';

export interface IGraderUI {
  /** show a folder (relative to the server's root) in the file browser */
  openFolder(path: string): Promise<void>;
  /** open a file (relative to the server's root) in its default editor */
  openFile(path: string): Promise<void>;
  /** save the open documents under a folder, so validate and submit see what the student sees */
  saveDocuments(folder: string): Promise<void>;
  /** reload the open documents under a folder from disk (after reset or an update changed the files) */
  revertDocuments(folder: string): Promise<void>;
  /** ask before handing in: the files that go in and the warnings; true to go on */
  confirmSubmit(assignment: Assignment, files: string[], warnings: string[]): Promise<boolean>;
  /** ask before resetting to the released version; true to go on */
  confirmReset(assignment: Assignment, path: string): Promise<boolean>;
  showValidation(assignment: Assignment, report: IValidationReport): Promise<void>;
  /** open one released feedback page in a Lab tab */
  openFeedback(assignment: Assignment, submission: Submission, page: string): Promise<void>;
  notify(kind: 'success' | 'info' | 'warning' | 'error', message: string): void;
  /** polls the submissions of assignments whose card is not shown (the panel closed) */
  watcher: Pick<SubmissionWatcher, 'handOver' | 'takeBack'>;
  /** milliseconds between status polls while a submission is being graded */
  pollInterval: number;
}
