// A strict little XML well-formedness check for the SVG tests (no XML parser is installed):
// tags nest and close, attributes are quoted and unique, entities are the five predefined ones
// or numeric, and text has no bare '<' or '&'. Returns the problems found (empty: well-formed),
// and the elements as {name, attributes} for assertions.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
}

export function checkXml(xml: string): { problems: string[]; elements: XmlElement[] } {
  const problems: string[] = [];
  const elements: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  const checkText = (text: string, where: number): void => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) problems.push(`bad entity in text at ${where}`);
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    checkText(text, i);
    if (text.trim() !== '') {
      if (stack.length === 0) problems.push(`text outside the root at ${i}`);
      else stack.at(-1)!.text += text;
    }
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) {
      problems.push(`unclosed tag at ${lt}`);
      break;
    }
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open?.name !== name) problems.push(`</${name}> closes <${open?.name ?? 'nothing'}> at ${lt}`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.:-]*)/.exec(body);
    if (m === null) {
      problems.push(`bad tag name at ${lt}: <${tag.slice(0, 20)}`);
      continue;
    }
    const attributes: Record<string, string> = {};
    let rest = body.slice(m[1]!.length);
    const attr = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/;
    for (let a = attr.exec(rest); a !== null; a = attr.exec(rest)) {
      if (a[1]! in attributes) problems.push(`duplicate attribute ${a[1]} on <${m[1]}>`);
      checkText(a[2]!, lt);
      attributes[a[1]!] = a[2]!;
      rest = rest.slice(a[0].length);
    }
    if (rest.trim() !== '') problems.push(`bad attributes on <${m[1]}>: '${rest.trim().slice(0, 30)}'`);
    const element = { name: m[1]!, attributes, text: '' };
    elements.push(element);
    if (stack.length === 0) roots++;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0) problems.push(`unclosed elements: ${stack.map((e) => e.name).join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return { problems, elements };
}
