/**
 * Where the CLI's secrets come from: `FRASCO_SECRETS` or `--secrets-file`, never argv, where `ps`
 * and shell history would show them.
 *
 * @internal
 */
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { createKeyring, type Keyring } from '../keyring.js'
import { UsageError, type CliIo } from './io.js'

/**
 * Flask keys shorter than this get a warning (never a refusal: the CLI must read the cookies an
 * existing Flask app writes). One cookie is enough to test guesses of the key offline; 16 bytes
 * is 128 bits when random, and a shorter key is most likely a word or a placeholder ('dev').
 */
export const FLASK_SHORT_KEY_BYTES = 16

/** Frasco's keyring, newest first; the keyring's own misuse errors become usage errors. */
export function loadSecrets(file: string | undefined, env: CliIo['env']): Keyring {
  const list = loadSecretList(file, env)
  try {
    return createKeyring(list)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

// Flask's keys are used as they are: no minimum length, no key ids. Short ones get a warning.
export function loadFlaskSecrets(file: string | undefined, io: CliIo): string[] {
  const list = loadSecretList(file, io.env)
  list.forEach((secret, index) => {
    const bytes = Buffer.byteLength(secret, 'utf8')
    if (bytes < FLASK_SHORT_KEY_BYTES) {
      io.stderr(
        `frasco: warning: Flask secret ${index + 1} of ${list.length} has only ${bytes} bytes; anyone holding one cookie can ` +
          `guess a short key offline and forge sessions. Make a new SECRET_KEY with: python3 -c 'import secrets; print(secrets.token_hex())'\n`,
      )
    }
  })
  return list
}

function loadSecretList(file: string | undefined, env: CliIo['env']): string[] {
  let list: string[]
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read --secrets-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    list = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'))
  } else {
    const raw = env.FRASCO_SECRETS
    if (raw === undefined || raw.trim() === '') {
      throw new UsageError('no secrets: set FRASCO_SECRETS (comma-separated, newest first) or pass --secrets-file PATH')
    }
    list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  }
  if (list.length === 0) throw new UsageError('no secrets: the secrets file or FRASCO_SECRETS holds no secret')
  return list
}
