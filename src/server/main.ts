/** Seam's language server process: LSP over stdio, node-ipc or a socket (vscode-languageserver). */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { SeamServer } from './server';

const connection = createConnection(ProposedFeatures.all);
new SeamServer(connection).listen();
