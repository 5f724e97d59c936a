// CodeMirror 6, set up for config files and scripts: line numbers, folding, bracket
// matching, search (Ctrl/⌘-F), undo history, Tab indents, and highlighting chosen by
// the file's name (its language loads on demand). Loaded only when a file is opened.

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  LanguageDescription,
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import { languages } from '@codemirror/language-data';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorState, type Text } from '@codemirror/state';
import { oneDark } from '@codemirror/theme-one-dark';
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from '@codemirror/view';

export interface EditorHandle {
  /** The text as it is now. */
  text(): string;
  doc(): Text;
  replace(text: string): void;
  setDark(dark: boolean): void;
  focus(): void;
  destroy(): void;
}

const lightTheme = EditorView.theme({}, { dark: false });

export function createEditor(
  parent: HTMLElement,
  options: {
    text: string;
    filename: string;
    dark: boolean;
    readOnly?: boolean;
    onChange?: (doc: Text) => void;
    onSave?: () => void;
  },
): EditorHandle {
  const language = new Compartment();
  const theme = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        foldGutter(),
        drawSelection(),
        indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        EditorState.readOnly.of(options.readOnly === true),
        keymap.of([
          {
            key: 'Mod-s',
            preventDefault: true,
            run: () => {
              options.onSave?.();
              return true;
            },
          },
          ...defaultKeymap,
          ...historyKeymap,
          ...foldKeymap,
          ...searchKeymap,
          indentWithTab,
        ]),
        language.of([]),
        theme.of(options.dark ? oneDark : lightTheme),
        EditorView.theme({
          '&': { height: '100%', fontSize: '13px' },
          '.cm-scroller': { fontFamily: 'var(--mantine-font-family-monospace)', overflow: 'auto' },
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) {
            options.onChange?.(update.state.doc);
          }
        }),
        EditorView.contentAttributes.of({ 'aria-label': `Contents of ${options.filename}` }),
      ],
    }),
  });
  const description = LanguageDescription.matchFilename(languages, options.filename);
  if (description !== null) {
    void description.load().then((support) => view.dispatch({ effects: language.reconfigure(support) }));
  }
  return {
    text: () => view.state.doc.toString(),
    doc: () => view.state.doc,
    replace: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setDark: (dark) => view.dispatch({ effects: theme.reconfigure(dark ? oneDark : lightTheme) }),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
