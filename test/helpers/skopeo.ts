import { findExecutable, runCommand, type CommandResult } from './dockerd.js'

let skopeoPath: Promise<string | null> | undefined

/**
 * Runs Debian's skopeo with `args` and returns what it printed; a non-zero
 * exit is returned in `code`, not thrown. Throws if skopeo is not installed,
 * so a test that needs it fails instead of skipping.
 */
export async function skopeo(args: string[]): Promise<CommandResult> {
  skopeoPath ??= findExecutable('skopeo', ['/usr/bin'])
  const file = await skopeoPath
  if (!file) {
    throw new Error(
      'skopeo not found; install it (apt-get install skopeo) ' +
        'or run scripts/test.sh'
    )
  }
  return runCommand(file, args, process.env)
}

/** Runs `skopeo inspect [extra…] ref`, parses its JSON; throws on failure. */
export async function skopeoInspect(
  ref: string,
  extra: string[] = []
): Promise<unknown> {
  const res = await skopeo(['inspect', ...extra, ref])
  if (res.code !== 0) {
    throw new Error(
      `skopeo inspect ${ref} exited ${res.code}: ${res.stderr.trim()}`
    )
  }
  return JSON.parse(res.stdout) as unknown
}
