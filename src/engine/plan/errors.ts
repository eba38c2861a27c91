/** An option or project the plan cannot be made from (bad namespace, unknown stage, clashing names). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}
