/**
 * The `pigment` command from the TypeScript sources (`node --import tsx src/fleet/pigment-entry.ts …`), so
 * the local fleet runs the working tree without a build; the same `main` as `bin/pigment.js`.
 * @module
 */
import { main } from '../cli/index.js'

await main(process.argv)
