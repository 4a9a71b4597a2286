/** "Name: message" of an error, or its text: what the journal, the report and the observations record. */
export const messageOf = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** An error's name ("" for anything else): how the SDK's service exceptions are told apart. */
export const errorName = (error: unknown): string => (error as { name?: string } | null)?.name ?? "";
