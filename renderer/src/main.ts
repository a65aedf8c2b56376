/** Entry point of the dashboard: builds the shell and its tabs, then opens the tab in the URL's hash. */
import './styles.css';
import { App } from './app.ts';
import { BackendsView } from './views/backends-view.ts';
import { ClusterView } from './views/cluster-view.ts';
import { GraphView } from './views/graph-view.ts';
import { LogsView } from './views/logs-view.ts';
import { PlacementView } from './views/placement-view.ts';
import { ResultsView } from './views/results-view.ts';
import { RunsView } from './views/runs-view.ts';
import { SessionsView } from './views/sessions-view.ts';
import { TablesView } from './views/tables-view.ts';
import { RunFilter } from './run-filter.ts';
import { TimelineView } from './views/timeline-view.ts';

const app = new App(document.getElementById('app')!);
const logs = new LogsView(app);
// The graph and the timeline show the same run.
const runs = new RunFilter();
for (const v of [
  new RunsView(app),
  new GraphView(app, runs),
  new TablesView(app),
  new TimelineView(app, runs),
  new ClusterView(app),
  new BackendsView(app),
  new PlacementView(app),
  logs,
  new SessionsView(app),
  new ResultsView(app),
])
  app.addView(v);
app.showView(location.hash.slice(1) || 'runs');
// The task panel's log box links to the Logs tab for the full live stream.
app.panel.addEventListener('click', (e) => {
  const id = (e.target as HTMLElement).closest<HTMLElement>('[data-open-logs]')?.dataset.openLogs;
  if (!id) return;
  app.closePanel();
  app.showView('logs');
  void logs.openTask(id);
});
