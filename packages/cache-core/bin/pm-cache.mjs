#!/usr/bin/env node
// Committed so package managers can link the bin before the package is built; it loads the build.
await import('../dist/cli.js');
