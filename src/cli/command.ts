/**
 * What a `dmm` subcommand is. A file src/cli/commands/<name>.ts that exports `command: CliCommand`
 * becomes `dmm <name>` without touching main.ts (the registry reads the folder).
 */
export interface CliCommand {
  name: string;
  summary: string;
  /** Runs with the arguments after the command name; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}
