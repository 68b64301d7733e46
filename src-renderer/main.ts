// Renderer entry: theme tokens, Pinia, hydrate the stores in their fixed order, mount the shell.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import './styles/theme.css';
import './styles/base.css';
import App from './App.vue';
import { dispose, hydrate } from './stores/index.ts';
import { useProjectStore } from './stores/project.ts';

const pinia = createPinia();
const app = createApp(App).use(pinia);

hydrate(pinia)
  .catch((error: unknown) => console.error('QAT Workbench: could not load app state:', error))
  .finally(() => app.mount('#app'));

window.addEventListener('beforeunload', (event) => {
  // In a browser tab, closing or reloading with unsaved changes or a run training asks first (the browser's own dialog).
  const project = useProjectStore(pinia);
  if ((project.dirty || project.workInProgress().length) && !('bridge' in window)) {
    event.preventDefault();
    return;
  }
  dispose(pinia);
});
