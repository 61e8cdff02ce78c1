/**
 * The `pigment` command run from the TypeScript sources (`node --import tsx`), for the server
 * integration tests: the same `main` that `bin/pigment.js` calls from the build.
 * @module
 */
import { main } from '../../src/cli/index.js'

await main(process.argv)
