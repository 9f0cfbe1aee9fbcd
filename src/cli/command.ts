/**
 * The tail every command shares (the service's own, such as `npm run report`, and the tools):
 * run `main` when the file is the process entry, print its result as JSON, answer a usage
 * problem with the usage line and exit 2, any other failure with `<name> failed: …` and exit 1.
 */

/** A command-line problem: the message is the usage line (and what was wrong). */
export class UsageError extends Error {}

/**
 * @param entry - the calling file's `module` (nothing runs when it is imported, e.g. by a test)
 * @param name - the command's name, for failure messages
 * @param main - the command; its result, when not undefined, is printed as JSON on stdout
 */
export function runCommand(entry: NodeModule, name: string, main: () => unknown): void {
  if (require.main !== entry) return;
  Promise.resolve()
    .then(main)
    .then(
      (result) => {
        if (result !== undefined) console.log(JSON.stringify(result, null, 2));
      },
      (error: Error & { code?: string }) => {
        // node:util parseArgs throws TypeErrors coded ERR_PARSE_ARGS_* for unknown or malformed options.
        if (error instanceof UsageError || error.code?.startsWith('ERR_PARSE_ARGS')) {
          console.error(error.message);
          process.exit(2);
        }
        console.error(`${name} failed: ${error.message}`);
        process.exit(1);
      },
    );
}
