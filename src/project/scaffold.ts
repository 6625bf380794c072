import fs from 'node:fs';
import path from 'node:path';
import { resolvePackagePath } from '../data/source-uri';
import { PACKAGE_NAME } from './project-imports';

const TEMPLATE_DIR = path.join(__dirname, 'template');
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
/** The sample data of the template's spec, from the vega-datasets package this one depends on. */
const SAMPLE = { from: 'package:vega-datasets/data/weather.csv', to: path.join('data', 'incoming', 'weather.csv') };

export interface Scaffolded {
  dir: string;
  files: string[];
  /** Set when the folder could not resolve the package by name and a link to this one was made. */
  linkedPackage?: string;
}

/**
 * `mlpipe init <dir>`: a new project (config, one example spec, a sample of its data, a README) in a
 * folder that is new or empty; never over existing files. The spec files import the package by name:
 * where that does not resolve (a checkout of this repository rather than an npm install), the
 * project gets node_modules/temporal-ml-pipelines linked to the package that scaffolded it.
 */
export function scaffoldProject(target: string): Scaffolded {
  const dir = path.resolve(target);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new Error(`${dir}: not empty; mlpipe init makes a project in a new or empty folder`);
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(TEMPLATE_DIR, dir, { recursive: true });
  fs.mkdirSync(path.dirname(path.join(dir, SAMPLE.to)), { recursive: true });
  fs.copyFileSync(resolvePackagePath(SAMPLE.from), path.join(dir, SAMPLE.to));
  let linkedPackage: string | undefined;
  if (!installedAbove(dir)) {
    linkedPackage = path.join(dir, 'node_modules', PACKAGE_NAME);
    fs.mkdirSync(path.dirname(linkedPackage), { recursive: true });
    fs.symlinkSync(PACKAGE_ROOT, linkedPackage, 'dir');
  }
  return { dir, files: listFiles(dir).filter((f) => !f.startsWith('node_modules')), linkedPackage };
}

/** Whether Node finds the package by name from `dir`: in a node_modules of it or of a folder above. */
function installedAbove(dir: string): boolean {
  for (let at = dir; ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, 'node_modules', PACKAGE_NAME, 'package.json'))) return true;
    if (path.dirname(at) === at) return false;
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(prefix, entry.name);
    return entry.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}
