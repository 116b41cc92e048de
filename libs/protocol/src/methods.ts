// Method names as people read them. No zod here: the dashboard's browser bundle imports this
// file alone (@lmsweep/protocol/methods).

/**
 * The "dense + fine-tune" control of a compression sweep (compress.control, or named in a grid's
 * `method`): the baseline trial's checkpoint fine-tuned exactly like the compression trials
 * (compress.finetune), without compressing anything, so a compressed row is read against a dense
 * model that trained the same extra steps.
 */
export const CONTROL_METHOD = 'dense-finetune';

/** Labels for the methods whose name alone does not read well; every other method is its name. */
const METHOD_LABELS: Readonly<Record<string, string>> = { [CONTROL_METHOD]: 'dense + fine-tune' };

/** A method's label for tables and legends: 'dense-finetune' → 'dense + fine-tune', 'svd' → 'svd'. */
export function methodLabel(method: string): string {
  return Object.hasOwn(METHOD_LABELS, method) ? METHOD_LABELS[method]! : method;
}
