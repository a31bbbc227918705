#!/usr/bin/env node
// Entry point of the `glint` command. The sources and the declaration are TypeScript,
// loaded through tsx so that no build step stands between a checkout and a running daemon.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Exit explicitly: a command that has finished (or a daemon whose start failed) must not be
// kept alive by a handle some library left open.
process.exit(await main(process.argv));
