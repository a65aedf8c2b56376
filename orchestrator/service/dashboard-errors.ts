/** The error of a dashboard API request the service refuses. */

/**
 * A request the dashboard API refuses: its HTTP status (4xx) and, for a form, a message per
 * field it names (`{ error, fields }` in the reply).
 */
export class DashboardRequestError extends Error {
  override readonly name = 'DashboardRequestError';
  constructor(
    readonly status: number,
    message: string,
    /** Field name -> what is wrong with it. */
    readonly fields?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}
