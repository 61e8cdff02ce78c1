import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/** The studio page: built into dist/web, served by `pigment serve` at `/` (src/api/studio). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Under /studio/ so the page's files never shadow an API path.
    assetsDir: 'studio',
    // The Content-Security-Policy forbids inline code: every script and style is a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
})
