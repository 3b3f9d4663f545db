/** The grader's icon (a checked notebook page), drawn with Lab's icon colour classes so it follows the theme. */
import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M6 2h9l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm8 1.5V8h4.5L14 3.5zM10.6 17.4l6.3-6.3-1.4-1.4-4.9 4.9-2.1-2.1-1.4 1.4z"/>
</svg>`;

export const graderIcon = new LabIcon({ name: 'grader-labextension:grader', svgstr: svg });
