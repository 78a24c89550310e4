/** The runner itself: this is VS Code 1.139 (code-server 4.139.1), and the extension host runs us. */
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';

describe('real VS Code', () => {
  it('is VS Code 1.139', () => {
    assert.match(vscode.version, /^1\.139\./);
  });

  it('opened the sample workspace', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.match(folders[0].uri.path, /\/test\/fixtures\/sample$/);
  });
});
