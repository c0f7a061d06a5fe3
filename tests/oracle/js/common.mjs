// Shared by the oracle's library runners: read every case as one JSON document on stdin, ask the library
// about each, write one JSON document of results on stdout. The libraries are resolved from
// $ORACLE_NODE_MODULES (the cache tests/oracle/install.sh fills), never from the repository.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';

const nodeModules = process.env.ORACLE_NODE_MODULES;
if (!nodeModules) {
  throw new Error('ORACLE_NODE_MODULES is not set: run tests/oracle/install.sh');
}
const requireThere = createRequire(join(nodeModules, '..', 'package.json'));

export function load(name) {
  return requireThere(name);
}

export async function importThere(name) {
  return import(pathToFileURL(requireThere.resolve(name)).href);
}

export function versionOf(name) {
  return JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')).version;
}

// What an error looks like where people see it: `name: message`, the stack a crash prints, and what
// console.error(err) prints (util.inspect, with the error's own properties such as code and claim).
export function describe(err) {
  return {
    name: err && err.name,
    message: err && err.message,
    code: err && err.code,
    stack: err && err.stack,
    inspect: inspect(err),
  };
}

export async function run(library, version, verify) {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  const results = {};
  for (const item of input.cases) {
    try {
      await verify(item, input);
      results[item.id] = { accepted: true, error: null };
    } catch (err) {
      results[item.id] = { accepted: false, error: describe(err) };
    }
  }
  process.stdout.write(JSON.stringify({ library, version, results }));
}
