// A refusal of a spec or input, naming each bad field by its dotted path (in its own file so the
// spec's sections can throw it without importing the whole spec).

/** A problem with a spec or input, named by its dotted path. */
export interface FieldIssue {
  path: string;
  message: string;
}

export class SpecError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.path || '(spec)'}: ${i.message}`).join('; '));
    this.name = 'SpecError';
    this.issues = issues;
  }
}
