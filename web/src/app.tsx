import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { AddForm } from './add/add-form';
import { apiKey } from './api/api-key';
import { ApiFailure, type Task, onUnauthorized } from './api/client';
import { type ConnectionState, type ProgressEvent, connectLiveEvents } from './api/live-events';
import { type Counts, type ServiceSettings, type StatusFilter, tasksApi } from './api/tasks';
import { KeyPrompt } from './auth/key-prompt';
import { ThroughputChart } from './chart/throughput-chart';
import { SettingsPanel } from './health/settings-panel';
import { DeleteDialog } from './tasks/delete-dialog';
import { EditDialog } from './tasks/edit-dialog';
import { LogPanel } from './tasks/log-panel';
import { PlayerPanel } from './tasks/player-panel';
import { type TaskActions, TaskRow } from './tasks/task-row';

const PAGE_SIZE = 20;
const CHART_SECONDS = 300;
const TABS: Array<{ filter: StatusFilter; label: string }> = [
  { filter: 'all', label: 'All' },
  { filter: 'downloading', label: 'Downloading' },
  { filter: 'waiting', label: 'Waiting' },
  { filter: 'success', label: 'Done' },
  { filter: 'failed', label: 'Failed' },
  { filter: 'stopped', label: 'Stopped' },
];

type Health = Awaited<ReturnType<typeof tasksApi.health>>;

export function App() {
  const [needKey, setNeedKey] = useState<'no' | 'ask' | 'refused'>('no');
  const [keyVersion, setKeyVersion] = useState(0);
  const [filter, setFilter] = useState<StatusFilter>('all');
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [list, setList] = useState<{ total: number; list: Task[] }>({ total: 0, list: [] });
  const [counts, setCounts] = useState<Counts | null>(null);
  const [folders, setFolders] = useState<string[]>([]);
  const [health, setHealth] = useState<Health | null>(null);
  const [settings, setSettings] = useState<ServiceSettings | null>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [progress, setProgress] = useState<Record<string, ProgressEvent>>({});
  const [samples, setSamples] = useState<number[]>([]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [editing, setEditing] = useState<Task | null>(null);
  const [logOf, setLogOf] = useState<Task | null>(null);
  const [playing, setPlaying] = useState<Task | null>(null);
  const [deleting, setDeleting] = useState<{ what: string; ids: number[] } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [theme, setTheme] = useState<string>(() => localStorage.getItem('mediago.theme') ?? 'auto');
  const lastSeen = useRef<Record<string, { speed: number; at: number }>>({});
  const query = useRef({ filter, search, page });
  query.current = { filter, search, page };

  const reload = useCallback(async () => {
    const { filter, search, page } = query.current;
    try {
      const [answer, stats, known, current] = await Promise.all([tasksApi.page(page, PAGE_SIZE, filter, search), tasksApi.stats(), tasksApi.folders(), tasksApi.settings()]);
      setList(answer);
      setSettings(current);
      setCounts(stats.counts);
      setFolders(known);
      setNeedKey('no');
    } catch (error) {
      if (!(error instanceof ApiFailure && error.status === 401)) setNotice(error instanceof Error ? error.message : String(error));
    }
  }, []);

  // a burst of events (a batch create, many tasks ending) becomes one reload
  const reloadSoon = useRef<ReturnType<typeof setTimeout> | null>(null);
  const scheduleReload = useCallback(() => {
    if (reloadSoon.current) return;
    reloadSoon.current = setTimeout(() => {
      reloadSoon.current = null;
      void reload();
    }, 150);
  }, [reload]);

  useEffect(() => onUnauthorized(() => setNeedKey(apiKey.get() ? 'refused' : 'ask')), []);
  useEffect(() => void reload(), [filter, search, page, keyVersion, reload]);
  useEffect(() => void tasksApi.health().then(setHealth, () => undefined), []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('mediago.theme', theme);
  }, [theme]);

  useEffect(() => {
    if (needKey !== 'no') return;
    return connectLiveEvents({
      progress(event) {
        lastSeen.current[event.id] = { speed: event.speed, at: Date.now() };
        setProgress((current) => ({ ...current, [event.id]: event }));
      },
      changed: scheduleReload,
      resync: scheduleReload,
      state: setConnection,
    });
  }, [needKey, keyVersion, scheduleReload]);

  // one throughput sample a second: the sum of the speeds reported in the last two seconds
  useEffect(() => {
    const timer = setInterval(() => {
      const now = Date.now();
      const total = Object.values(lastSeen.current).reduce((sum, seen) => (now - seen.at < 2000 ? sum + seen.speed : sum), 0);
      setSamples((current) => [...current.slice(-(CHART_SECONDS - 1)), total]);
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const act = async (work: Promise<unknown>) => {
    try {
      await work;
      setNotice(null);
    } catch (error) {
      setNotice(error instanceof Error ? error.message : String(error));
    }
    scheduleReload();
  };

  const actions: TaskActions = {
    start: (task) => act(tasksApi.start(task.id)),
    stop: (task) => act(tasksApi.stop(task.id)),
    remove: (task) => setDeleting({ what: `“${task.name}”`, ids: [task.id] }),
    edit: setEditing,
    toggleLive: (task) => act(tasksApi.setLive(task.id, !task.isLive)),
    showLog: setLogOf,
    play: setPlaying,
  };

  const bulk = (work: (id: number) => Promise<unknown>) => {
    const ids = [...selected];
    setSelected(new Set());
    void act(Promise.all(ids.map(work)));
  };

  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  const countOf = (tab: StatusFilter) => (counts ? (tab === 'all' ? counts.total : counts[tab]) : null);
  const missingTools = health ? Object.entries(health.tools).filter(([, tool]) => !tool.found).map(([name]) => name) : [];

  return (
    <>
      <header class="top">
        <h1>Downloads</h1>
        <span class={`connection ${connection}`} role="status" aria-live="polite">
          {connection === 'live' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        <label class="theme">
          <span class="sr-only">Theme</span>
          <select value={theme} onChange={(event) => setTheme(event.currentTarget.value)} aria-label="Theme">
            <option value="auto">Auto</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
      </header>
      <main>
        <section class="overview">
          <AddForm folders={folders} onCreated={scheduleReload} />
          <div class="card side">
            <ThroughputChart samples={samples} />
            {health && (
              <p class="health">
                Service {health.status}; tools:{' '}
                {Object.entries(health.tools).map(([name, tool]) => (
                  <span class={`tool ${tool.found ? 'found' : 'missing'} ${tool.outdated ? 'outdated' : ''}`} title={tool.warning}>
                    {name} {tool.found ? (tool.version ?? 'found') : 'missing'}
                    {tool.outdated ? ' (outdated)' : ''}{' '}
                  </span>
                ))}
                {missingTools.length > 0 && <em>(types that need {missingTools.join(', ')} will fail)</em>}
                <br />
                <span class="node-line">
                  Node {health.node} · {health.database === 'postgres' ? 'tasks in PostgreSQL, shared by every node on that database' : 'tasks in SQLite on this node'}
                </span>
              </p>
            )}
            {settings && <SettingsPanel settings={settings} />}
          </div>
        </section>

        <nav class="tabs" aria-label="Filter by status">
          {TABS.map((tab) => (
            <button
              type="button"
              class={tab.filter === filter ? 'active' : ''}
              aria-pressed={tab.filter === filter}
              onClick={() => {
                setFilter(tab.filter);
                setPage(1);
              }}
            >
              {tab.label} <span class="count">{countOf(tab.filter) ?? ''}</span>
            </button>
          ))}
        </nav>

        <div class="toolbar">
          <input
            type="search"
            aria-label="Search by name or URL"
            placeholder="Search by name or URL"
            value={search}
            onInput={(event) => {
              setSearch(event.currentTarget.value);
              setPage(1);
            }}
          />
          {selected.size > 0 && (
            <span class="bulk" role="group" aria-label="Selected tasks">
              {selected.size} selected:
              <button type="button" onClick={() => bulk((id) => tasksApi.start(id))}>Start</button>
              <button type="button" onClick={() => bulk((id) => tasksApi.stop(id))}>Stop</button>
              <button type="button" class="danger" onClick={() => setDeleting({ what: `${selected.size} tasks`, ids: [...selected] })}>
                Delete
              </button>
            </span>
          )}
        </div>

        {notice && (
          <p class="notice error" role="alert">
            {notice} <button type="button" class="link" onClick={() => setNotice(null)}>Dismiss</button>
          </p>
        )}

        <ul class="tasks" aria-label="Tasks">
          {list.list.map((task) => (
            <TaskRow
              key={task.id}
              task={task}
              live={progress[String(task.id)]}
              showNode={health?.database === 'postgres'}
              selected={selected.has(task.id)}
              onSelect={(on) => {
                const next = new Set(selected);
                if (on) next.add(task.id);
                else next.delete(task.id);
                setSelected(next);
              }}
              actions={actions}
            />
          ))}
          {list.list.length === 0 && <li class="empty">No tasks here yet.</li>}
        </ul>

        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span class="page-of">
            Page {page} of {pages} · {list.total} tasks
          </span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
        </nav>
      </main>

      {logOf && <LogPanel task={logOf} onClose={() => setLogOf(null)} />}
      {/* the row's latest view: the player switches to the file when the task finishes */}
      {playing && <PlayerPanel task={list.list.find((task) => task.id === playing.id) ?? playing} onClose={() => setPlaying(null)} />}
      {editing && (
        <EditDialog
          task={editing}
          onClose={(changed) => {
            setEditing(null);
            if (changed) scheduleReload();
          }}
        />
      )}
      {deleting && (
        <DeleteDialog
          what={deleting.what}
          onClose={(choice) => {
            const { ids } = deleting;
            setDeleting(null);
            if (!choice) return;
            setSelected(new Set());
            void act(Promise.all(ids.map((id) => tasksApi.remove(id, choice.deleteFile))));
          }}
        />
      )}
      {needKey !== 'no' && (
        <KeyPrompt
          refused={needKey === 'refused'}
          onSubmit={(key) => {
            apiKey.set(key);
            setNeedKey('no');
            setKeyVersion((version) => version + 1);
          }}
        />
      )}
    </>
  );
}
