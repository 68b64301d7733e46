// The open project and the recent list. The main side owns the truth; this store mirrors it through
// the `project.changed` event, so every window (and menu action) stays in sync.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { ProjectSections as ProjectSchemas, type DataRef, type ModelRef, type ProjectInfo, type ProjectSections, type RecentProject } from '../../src-main/api/project.api.ts';
import { useBusy } from '../composables/use-busy.ts';
import { api, connectionState, onEvent } from '../api/client.ts';

export const useProjectStore = defineStore('project', () => {
  const current = shallowRef<ProjectInfo | null>(null);
  const dirty = ref(false);
  const recent = shallowRef<RecentProject[]>([]);
  const { busy, error, run: action } = useBusy();
  /** Last error of a project action, in plain words; cleared by the next action. */
  let stop: (() => void) | null = null;
  let stopWatch: (() => void) | null = null;

  const isOpen = computed(() => current.value !== null);
  const name = computed(() => current.value?.doc.name ?? null);
  /** A path inside the open project's folder, with the folder's own separator (Windows or POSIX). */
  function pathIn(...parts: string[]): string | null {
    const base = current.value?.path;
    if (!base) return null;
    const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/';
    return [base.replace(/[\\/]+$/, ''), ...parts].join(sep);
  }
  /** A step's section of project.json, checked against its owner's schema (undefined if absent or off). */
  function section<K extends keyof ProjectSections>(key: K): ProjectSections[K] | undefined {
    const parsed = ProjectSchemas[key].safeParse(current.value?.doc.sections[key]);
    return parsed.success ? (parsed.data as ProjectSections[K]) : undefined;
  }

  function apply(state: { project: ProjectInfo | null; dirty: boolean }): void {
    current.value = state.project;
    dirty.value = state.dirty;
  }


  async function refreshRecent(): Promise<void> {
    recent.value = (await api.project.listRecent({})).projects;
  }

  async function hydrate(): Promise<void> {
    stop = onEvent('project', 'changed', (payload) => {
      apply(payload as { project: ProjectInfo | null; dirty: boolean });
      void refreshRecent();
    });
    apply(await api.project.current({}));
    await refreshRecent();
    // Web mode: events sent while the socket was down are lost, so re-read the state on reconnect.
    stopWatch = watch(connectionState, async (state, before) => {
      if (state === 'open' && before !== 'open') {
        apply(await api.project.current({}));
        await refreshRecent();
      }
    });
  }

  /**
   * Work of other steps that leaving the project would stop (a training run), each as a sentence or
   * null; a store registers its check here, so this store needs none of theirs.
   */
  const workChecks: (() => string | null)[] = [];
  function warnOnLeave(check: () => string | null): void {
    workChecks.push(check);
  }
  /** What leaving would stop now, in sentences (empty: nothing). */
  const workInProgress = (): string[] => workChecks.map((c) => c()).filter((w): w is string => w !== null);
  /** Switching or closing drops unsaved changes and stops work in progress: ask first (true: go ahead). */
  function mayLeave(doing: string): boolean {
    if (!current.value) return true;
    const work = workInProgress();
    if (!dirty.value && !work.length) return true;
    const unsaved = dirty.value ? [`"${current.value.doc.name}" has unsaved changes.`] : [];
    return window.confirm([...unsaved, ...work, `${doing}${dirty.value ? ' without saving them' : ''}?`].join(' '));
  }
  const guarded = <T>(doing: string, run: () => Promise<T>): Promise<T | undefined> => (mayLeave(doing) ? run() : Promise.resolve(undefined));

  function dispose(): void {
    stop?.();
    stopWatch?.();
    stop = stopWatch = null;
  }

  return {
    current, dirty, recent, busy, error, isOpen, name, pathIn, section,
    hydrate, dispose, refreshRecent,
    mayLeave, warnOnLeave, workInProgress,
    openExample: () => guarded('Open the example', () => action(() => api.project.openExample({ name: 'mnist' }))),
    open: (path: string) => guarded('Open another project', () => action(() => api.project.open({ path }))),
    create: (path: string, projectName: string, start: { data?: DataRef; model?: ModelRef } = {}) =>
      guarded('Create a new project', () => action(() => api.project.create({ path, name: projectName, ...start }))),
    save: () => action(() => api.project.save({})),
    close: () => guarded('Close it', () => action(() => api.project.close({}))),
    update: (patch: { name?: string; device?: 'MAX78000' | 'MAX78002'; data?: DataRef | null; model?: ModelRef | null; section?: { key: string; value: unknown } }) =>
      action(() => api.project.update(patch)),
    /** One folder for the file chooser (project and home folders only); throws with the service's message. */
    browse: (dir?: string, extensions?: string[]) => api.project.browse({ ...(dir ? { dir } : {}), ...(extensions ? { extensions } : {}) }),
  };
});
