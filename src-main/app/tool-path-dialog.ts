// The native confirmation for new program paths in the tool settings: the renderer can ask for the
// change, only the person at the window can grant it (a compromised renderer cannot click a native
// dialog). Cancel is the default button.
import { BrowserWindow, dialog } from 'electron';
import type { ToolPathChange } from '../services.ts';

export async function confirmToolPaths(changes: ToolPathChange[]): Promise<boolean> {
  const detail = changes.map((c) => `${c.field}: ${c.to ?? '(found automatically)'}${c.from ? `\n    was ${c.from}` : ''}`).join('\n');
  const options = {
    type: 'warning' as const,
    buttons: ['Cancel', 'Use these programs'],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
    title: 'QAT Workbench',
    message: 'QAT Workbench will run the programs in these folders when you synthesize, build or flash.',
    detail: `${detail}\n\nOnly confirm paths you chose yourself.`,
  };
  const win = BrowserWindow.getFocusedWindow();
  const { response } = win ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
  return response === 1;
}
