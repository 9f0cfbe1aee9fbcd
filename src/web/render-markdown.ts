/**
 * The Markdown tree (markdown.ts) as DOM nodes, built with createElement and text nodes only:
 * whatever the detail holds, it can produce no element other than p, blockquote, strong, em,
 * code and br, no attribute, and no script. The page's CSP (require-trusted-types-for 'script')
 * makes any HTML-string sink an error as well.
 */
import type { Block, Inline } from './markdown.js';

function inline(nodes: readonly Inline[], parent: Node): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        parent.appendChild(document.createTextNode(node.text));
        break;
      case 'code': {
        const code = document.createElement('code');
        code.textContent = node.text;
        parent.appendChild(code);
        break;
      }
      case 'br':
        parent.appendChild(document.createElement('br'));
        break;
      case 'strong':
      case 'em': {
        const el = document.createElement(node.type);
        inline(node.children, el);
        parent.appendChild(el);
        break;
      }
    }
  }
}

/**
 * Renders parsed Markdown.
 * @param blocks - parseMarkdown(detail)
 */
export function renderMarkdown(blocks: readonly Block[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const block of blocks) {
    if (block.type === 'quote') {
      const quote = document.createElement('blockquote');
      quote.appendChild(renderMarkdown(block.children));
      fragment.appendChild(quote);
    } else {
      const p = document.createElement('p');
      inline(block.children, p);
      fragment.appendChild(p);
    }
  }
  return fragment;
}
