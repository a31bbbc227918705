#!/usr/bin/env node
// Entry point of the `glint` command. The sources and the declaration are TypeScript,
// loaded through tsx so that no build step stands between a checkout and a running daemon.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
