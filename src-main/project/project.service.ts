// The project service: implements api/project.api.ts over project folders (Node edge; no Electron).
// Holds the one current project of this app instance and pushes `changed` to every client.
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ApiError, type ServiceImpl } from '../api/contract.ts';
import { PROJECT_SCHEMA_VERSION, ProjectSections, type ProjectDoc, type ProjectInfo, type projectApi } from '../api/project.api.ts';
import type { ServiceEnv } from '../services.ts';
import type { AtomicWriteHooks } from './atomic-write.ts';
import { exampleDoc, exampleFolders } from './examples.ts';
import { PROJECT_FILE, prepareNewProjectDir, projectDir, projectExists, readProject, removeStaleTemps, writeProject } from './project-folder.ts';
import { migrateTrainingBits } from './migrate-bits.ts';
import { RecentProjects } from './recent-projects.ts';
import { browse, describeRoot } from './browse.ts';

export interface ProjectServiceOptions {
  /** Test seam: hooks into the atomic write of project.json. */
  writeHooks?: AtomicWriteHooks;
  /** The home folder the file chooser offers (default the user's). */
  home?: string;
}

interface Current {
  dir: string;
  doc: ProjectDoc;
  dirty: boolean;
}

/** A known section (ProjectSections) must match its owner's schema; the error names the field. */
function checkSection(key: string, value: unknown): void {
  if (!Object.hasOwn(ProjectSections, key)) return;
  const checked = ProjectSections[key as keyof typeof ProjectSections].safeParse(value);
  if (checked.success) return;
  const issue = checked.error.issues[0]!;
  const field = ['section', 'value', ...issue.path.map(String)].join('.');
  throw new ApiError('bad-request', `sections.${[key, ...issue.path.map(String)].join('.')}: ${issue.message}.`, field);
}

export function createProjectService(env: ServiceEnv, options: ProjectServiceOptions = {}): ServiceImpl<typeof projectApi> {
  const recent = new RecentProjects(env.stateDir);
  const examplesDir = resolve(env.stateDir, 'examples');
  let current: Current | null = null;

  const info = (c: Current): ProjectInfo => ({
    path: c.dir,
    doc: c.doc,
    isExample: c.dir.startsWith(examplesDir + sep),
  });
  const snapshot = () => ({ project: current ? info(current) : null, dirty: current?.dirty ?? false });
  const changed = () => env.emit('project', 'changed', snapshot());

  async function openDir(dir: string): Promise<ProjectInfo> {
    const read = await readProject(dir);
    // Bits an older version kept in the training section move into the network (unsaved until saved).
    const doc = await migrateTrainingBits(dir, join(dir, PROJECT_FILE), read);
    await removeStaleTemps(dir);
    current = { dir, doc, dirty: doc !== read };
    await recent.touch(dir, doc.name);
    changed();
    return info(current);
  }

  function requireCurrent(): Current {
    if (!current) throw new ApiError('not-found', 'No project is open; create or open one first.');
    return current;
  }

  return {
    async ping() {
      return { ok: true as const };
    },

    async create(req) {
      const dir = projectDir(req.path);
      await prepareNewProjectDir(dir);
      const now = new Date().toISOString();
      const doc: ProjectDoc = {
        schemaVersion: PROJECT_SCHEMA_VERSION,
        name: req.name,
        device: req.device ?? 'MAX78002',
        data: req.data ?? null,
        model: req.model ?? null,
        createdAt: now,
        updatedAt: now,
        sections: {},
      };
      await writeProject(dir, doc, options.writeHooks);
      return openDir(dir);
    },

    async open(req) {
      return openDir(projectDir(req.path));
    },

    async save(req) {
      const c = requireCurrent();
      const doc: ProjectDoc = { ...(req.doc ?? c.doc), updatedAt: new Date().toISOString() };
      await writeProject(c.dir, doc, options.writeHooks);
      // Only after the file is safely on disk does the in-memory state say "saved".
      current = { dir: c.dir, doc, dirty: false };
      await recent.touch(c.dir, doc.name);
      changed();
      return info(current);
    },

    async update(req) {
      const c = requireCurrent();
      const doc: ProjectDoc = { ...c.doc, sections: { ...c.doc.sections } };
      if (req.name !== undefined) doc.name = req.name;
      if (req.device !== undefined) doc.device = req.device;
      if (req.data !== undefined) doc.data = req.data;
      if (req.model !== undefined) doc.model = req.model;
      if (req.section) {
        checkSection(req.section.key, req.section.value);
        doc.sections[req.section.key] = req.section.value;
      }
      current = { dir: c.dir, doc, dirty: true };
      changed();
      return { project: info(current), dirty: true };
    },

    async current() {
      return snapshot();
    },

    async close() {
      current = null;
      changed();
      return { ok: true as const };
    },

    async listRecent() {
      return { projects: await recent.list() };
    },

    async browse(req) {
      const roots = [...(current ? [describeRoot('Project', current.dir)] : []), describeRoot('Home', options.home ?? homedir())];
      return browse(roots, req.dir, req.extensions);
    },

    async openExample(req) {
      const dir = join(examplesDir, exampleFolders[req.name]);
      if (!(await projectExists(dir))) {
        await prepareNewProjectDir(dir);
        await writeProject(dir, exampleDoc(req.name), options.writeHooks);
      }
      return openDir(dir);
    },
  };
}
