#!/usr/bin/env node
import { EXIT, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pm-cache: ${String(error)}\n`);
    process.exitCode = EXIT.store;
  },
);
