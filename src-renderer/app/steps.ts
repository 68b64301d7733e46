// The workflow steps, in order: one route (#/<id>) and one view component per step, each owned by
// its feature folder (features/<id>/<Name>View.vue). Adding a step is one entry here.
import { defineAsyncComponent, type Component } from 'vue';

export interface Step {
  /** Route id: the hash is #/<id>. */
  id: string;
  title: string;
  /** One line under the title in the header. */
  summary: string;
  /** Settings sits apart from the numbered workflow. */
  isWorkflow: boolean;
  view: Component;
}

const view = (load: () => Promise<{ default: Component }>) => defineAsyncComponent({ loader: load, delay: 0 });

export const steps: Step[] = [
  { id: 'project', title: 'Project', summary: 'Create, open and save projects', isWorkflow: true, view: view(() => import('../features/project/ProjectView.vue')) },
  { id: 'data', title: 'Data', summary: 'Data set, preview and splits', isWorkflow: true, view: view(() => import('../features/data/DataView.vue')) },
  { id: 'model', title: 'Model', summary: 'Network graph and device rules', isWorkflow: true, view: view(() => import('../features/model/ModelView.vue')) },
  { id: 'train', title: 'Train', summary: 'Float training, then QAT fine-tuning', isWorkflow: true, view: view(() => import('../features/train/TrainView.vue')) },
  { id: 'quantize', title: 'Quantize', summary: 'Layer-wise ranges, bit widths and error', isWorkflow: true, view: view(() => import('../features/quantize/QuantizeView.vue')) },
  { id: 'deploy', title: 'Deploy', summary: 'MAX78002 plan, export, synthesize, build, flash', isWorkflow: true, view: view(() => import('../features/deploy/DeployView.vue')) },
  { id: 'device-check', title: 'Device check', summary: 'Device INT8 vs float vs simulator, live', isWorkflow: true, view: view(() => import('../features/device-check/DeviceCheckView.vue')) },
  { id: 'settings', title: 'Settings', summary: 'Appearance, toolchain paths and app information', isWorkflow: false, view: view(() => import('../features/settings/SettingsView.vue')) },
];

export const defaultStepId = 'project';
