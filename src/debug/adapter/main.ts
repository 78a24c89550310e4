/** Seam's debug adapter process: DAP over stdio. Imports no `vscode`. */
import { DebugSession } from '@vscode/debugadapter';
import { SeamDebugSession } from './session';

DebugSession.run(SeamDebugSession);
