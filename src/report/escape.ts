/**
 * Escaping for every output format the reporters write. Evidence carries text
 * from the target (response bodies, header values, file paths) and from the
 * checklist, so every string is untrusted: it must come out as text, never as
 * markup, never as a second workflow command.
 */

/** C0 controls XML 1.0 cannot carry at all, even escaped (all but tab, LF and CR), and U+FFFE/U+FFFF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: XML cannot carry them.
const XML_FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
/** Half of a surrogate pair without the other half: not a character, so not XML either. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const asEscape = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text safe inside an XML element (and in attributes, though there line breaks would become spaces). */
export function escapeXml(text: string): string {
  return text
    .replace(XML_FORBIDDEN_CHARACTER, asEscape)
    .replace(LONE_SURROGATE, asEscape)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** An XML attribute value: line breaks and tabs become character references, which a parser keeps as they are. */
export function escapeXmlAttribute(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are shown as escapes, never passed to the page.
const HTML_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** Text safe inside an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(HTML_CONTROL, asEscape);
}

/**
 * Text safe in one Markdown table cell or one line of GitHub-flavoured Markdown:
 * no HTML (GitHub renders it), no table breaks, no emphasis, links or code
 * spans that the text did not mean.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]#+!|~])/g, '\\$1');
}

/** The message part of a GitHub Actions workflow command (`::error …::message`). */
export function escapeWorkflowData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value of a workflow command (`file=…,title=…`): also no `:` or `,`. */
export function escapeWorkflowProperty(text: string): string {
  return escapeWorkflowData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
