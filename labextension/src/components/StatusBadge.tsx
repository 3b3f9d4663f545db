/** The assignment's status as a small labelled badge whose colour comes from Lab's theme variables. */
import React from 'react';
import type { IBadge } from '../model/status';

export function StatusBadge({ badge }: { badge: IBadge }): JSX.Element {
  return (
    <span className={`jp-GraderBadge jp-GraderBadge-${badge.kind}`} data-status={badge.kind} role="status">
      {badge.label}
    </span>
  );
}
