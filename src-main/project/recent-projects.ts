// The recent-projects list, kept as recent-projects.json in the app state dir (atomic writes).
// A broken or missing list is treated as empty: losing the list must never block opening a project.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.ts';
import { projectExists } from './project-folder.ts';
import type { RecentProject } from '../api/project.api.ts';

const MAX_RECENT = 12;
const Entry = z.object({ path: z.string(), name: z.string(), openedAt: z.string() });
const ListFile = z.object({ projects: z.array(Entry) });
type Entry = z.infer<typeof Entry>;

export class RecentProjects {
  private readonly file: string;
  constructor(private readonly stateDir: string) {
    this.file = join(stateDir, 'recent-projects.json');
  }

  private async read(): Promise<Entry[]> {
    try {
      const parsed = ListFile.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? parsed.data.projects : [];
    } catch {
      return [];
    }
  }

  async list(): Promise<RecentProject[]> {
    const entries = await this.read();
    return Promise.all(entries.map(async (e) => ({ ...e, exists: await projectExists(e.path) })));
  }

  async touch(path: string, name: string): Promise<void> {
    const entries = (await this.read()).filter((e) => e.path !== path);
    entries.unshift({ path, name, openedAt: new Date().toISOString() });
    await mkdir(this.stateDir, { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ projects: entries.slice(0, MAX_RECENT) }, null, 2) + '\n');
  }
}
