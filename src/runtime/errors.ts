/** A failure the user should see as one line, with the exit status mycr returns. */
export class ContainerError extends Error {
  constructor(
    message: string,
    readonly exitCode = 125,
    readonly detail?: string,
  ) {
    super(message);
  }
}
