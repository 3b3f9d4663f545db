import { frameDocument } from '../model/feedbackHtml';

it('removes scripts, external resources and handlers, keeps content and inline styles, adds a CSP', () => {
  const page = `<html><head><script src="https://cdn.example/mathjax.js"></script>
    <link rel="stylesheet" href="https://cdn.example/x.css"><style>.a{color:red}</style></head>
    <body><h1 onclick="steal()">Feedback</h1><img src="data:image/png;base64,AAA" onerror="x()">
    <script>alert(1)</script><iframe src="https://evil.example"></iframe><p>4 / 5</p></body></html>`;
  const out = frameDocument(page);
  expect(out).not.toMatch(/script|cdn\.example|evil|onclick|onerror/);
  expect(out).toContain('<style>.a{color:red}</style>');
  expect(out).toContain('<h1>Feedback</h1>');
  expect(out).toContain('data:image/png;base64,AAA');
  expect(out).toContain('<p>4 / 5</p>');
  expect(out).toContain(
    `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"`
  );
});
