import createDebug from 'debug'

/**
 * Namespaced debug loggers, silent unless `DEBUG=hypership:*` (or a narrower
 * namespace such as `hypership:p2p`) is set. Progress is never logged here:
 * it travels as events.
 */
export type Area = 'image' | 'archive' | 'store' | 'copy' | 'p2p' | 'docker' | 'daemon' | 'registry' | 'cli'

export function logger(area: Area): createDebug.Debugger {
  return createDebug(`hypership:${area}`)
}
