/** The student's home: every lecture they belong to, each with its released assignments. */
import React, { useCallback, useEffect, useState } from 'react';
import { Button, refreshIcon } from '@jupyterlab/ui-components';
import { listAssignments, listLectures } from '../api/grader';
import { messageOf } from '../api/request';
import type { Assignment, Lecture } from '../api/types';
import { AssignmentCard } from './AssignmentCard';
import type { IGraderUI } from './ui';

type Load<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ok'; value: T };

function LectureSection({ lecture, ui }: { lecture: Lecture; ui: IGraderUI }): JSX.Element {
  const [load, setLoad] = useState<Load<Assignment[]>>({ state: 'loading' });
  useEffect(() => {
    listAssignments(lecture.id)
      .then(all =>
        setLoad({
          state: 'ok',
          value: all
            .filter(a => a.status !== 'created')
            .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.id - b.id)
        })
      )
      .catch(e => setLoad({ state: 'error', message: messageOf(e) }));
  }, [lecture.id]);
  const headingId = `grader-lecture-${lecture.id}`;
  return (
    <section className="jp-GraderLecture" aria-labelledby={headingId} data-lecture-code={lecture.code}>
      <h2 id={headingId} className="jp-GraderLecture-name">
        {lecture.name} <span className="jp-GraderLecture-code">{lecture.code}</span>
      </h2>
      {load.state === 'loading' && <p role="status">Loading assignments…</p>}
      {load.state === 'error' && (
        <p className="jp-GraderError" role="alert">
          {load.message}
        </p>
      )}
      {load.state === 'ok' && load.value.length === 0 && <p>No assignments have been released yet.</p>}
      {load.state === 'ok' && load.value.map(a => <AssignmentCard key={a.id} assignment={a} ui={ui} />)}
    </section>
  );
}

export function AssignmentsPanel({ ui }: { ui: IGraderUI }): JSX.Element {
  const [load, setLoad] = useState<Load<Lecture[]>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => {
    setLoad({ state: 'loading' });
    listLectures()
      .then(lectures => setLoad({ state: 'ok', value: lectures }))
      .catch(e => setLoad({ state: 'error', message: messageOf(e) }));
    setGeneration(g => g + 1);
  }, []);
  useEffect(reload, [reload]);
  return (
    <div className="jp-GraderPanel">
      <div className="jp-GraderPanel-toolbar">
        <h1 className="jp-GraderPanel-title">Assignments</h1>
        <Button className="jp-GraderButton" onClick={reload} aria-label="Refresh assignments" title="Refresh">
          <refreshIcon.react tag="span" className="jp-GraderButton-icon" />
          Refresh
        </Button>
      </div>
      {load.state === 'loading' && <p role="status">Loading lectures…</p>}
      {load.state === 'error' && (
        <p className="jp-GraderError" role="alert">
          {load.message}
        </p>
      )}
      {load.state === 'ok' && load.value.length === 0 && (
        <p>You are not a member of any lecture yet. Ask your instructor to add you.</p>
      )}
      {load.state === 'ok' &&
        load.value.map(lecture => (
          <LectureSection key={`${lecture.id}-${generation}`} lecture={lecture} ui={ui} />
        ))}
    </div>
  );
}
