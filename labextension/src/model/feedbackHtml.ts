/**
 * Feedback HTML made ready for a sandboxed iframe: the page holds student output, so it gets no scripts
 * (they would not run in the sandbox anyway, and each blocked one is a console error) and no external
 * resources, and a Content-Security-Policy that forbids loading anything but inline styles and data: images.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";

export function frameDocument(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll('script, iframe, object, embed, base').forEach(el => el.remove());
  doc.querySelectorAll('link').forEach(el => {
    const href = el.getAttribute('href') ?? '';
    if (!href.startsWith('data:')) {
      el.remove();
    }
  });
  doc.querySelectorAll('*').forEach(el => {
    for (const attr of [...el.attributes]) {
      if (attr.name.toLowerCase().startsWith('on')) {
        el.removeAttribute(attr.name);
      }
    }
  });
  const meta = doc.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.content = CSP;
  doc.head.prepend(meta);
  return `<!DOCTYPE html>\n${doc.documentElement.outerHTML}`;
}
