#!/usr/bin/env node
'use strict';
try {
  require('../dist/lib/cli/main.js').main(process.argv);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
