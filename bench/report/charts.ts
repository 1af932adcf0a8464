import * as vega from 'vega'
import { type TopLevelSpec, compile } from 'vega-lite'

/** Renders a Vega-Lite spec to SVG headless (no canvas, no browser). */
export async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  const out = await view.toSVG()
  view.finalize()
  return out
}

const GROUP_COLORS = { domain: ['hypership', 'baseline', 'floor', 'ceiling'], range: ['#d62728', '#1f77b4', '#9467bd', '#7f7f7f'] }

/** Median MiB/s per method with a min–max rule. */
export function throughputChart(rows: Array<{ label: string; group: string; median: number; min: number; max: number }>, title: string): TopLevelSpec {
  const y = { field: 'label', type: 'nominal' as const, sort: null, title: null, axis: { labelLimit: 320 } }
  // every layer must name the same log scale, or Vega-Lite falls back to linear and drops the bars
  const scale = { type: 'log' as const, domain: [1, Math.max(...rows.map((r) => r.max)) * 2] }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y,
          x: { field: 'median', type: 'quantitative', title: 'MiB/s (median; line = min–max; log scale)', scale, stack: null },
          x2: { datum: 1 },
          color: { field: 'group', type: 'nominal', scale: GROUP_COLORS, title: null }
        }
      },
      { mark: { type: 'rule', color: 'black' }, encoding: { y, x: { field: 'min', type: 'quantitative', scale }, x2: { field: 'max' } } },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
        encoding: { y, x: { field: 'max', type: 'quantitative', scale }, text: { field: 'median', type: 'quantitative', format: '.0f' } }
      }
    ]
  }
}

/** Seconds per phase, stacked, per method. */
export function phasesChart(rows: Array<{ label: string; phase: string; step: number; seconds: number }>, title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds (median of each phase)', stack: 'zero' },
      color: { field: 'phase', type: 'nominal', title: 'phase', scale: { scheme: 'tableau20' }, legend: { labelLimit: 300 } },
      order: { field: 'step', type: 'quantitative' }
    }
  }
}

/** Peak RSS by image size for sharer and receiver, with the 256 MiB target. */
export function memoryChart(rows: Array<{ size: string; role: string; peakMiB: number }>, targetMiB: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Scenario 6: peak RSS by image size',
    width: 360,
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'size', type: 'nominal', sort: null, title: 'image size', axis: { labelAngle: 0 } },
          xOffset: { field: 'role' },
          y: { field: 'peakMiB', type: 'quantitative', title: 'peak RSS (MiB, VmHWM)' },
          color: { field: 'role', type: 'nominal', title: null }
        }
      },
      { data: { values: [{ t: targetMiB }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { y: { field: 't', type: 'quantitative' } } }
    ]
  }
}

/** Self-time share by package for the profiled processes. */
export function profileChart(rows: Array<{ process: string; pkg: string; share: number }>): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Where the CPU goes during a transfer (self time by package)',
    data: { values: rows },
    facet: { row: { field: 'process', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 420,
      mark: 'bar',
      encoding: {
        y: { field: 'pkg', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 300 } },
        x: { field: 'share', type: 'quantitative', title: 'share of samples', axis: { format: '%' } }
      }
    }
  }
}
