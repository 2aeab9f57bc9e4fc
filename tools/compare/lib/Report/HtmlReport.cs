using System.Text;
using System.Text.Json;
using GuestOS.Compare.Spec;

namespace GuestOS.Compare.Report;

/// <summary>
/// The HTML report `make compare`, `make check-guest` and `make trace` write under build/: one
/// self-contained page (inline CSS, SVG drawn by an inline script from embedded JSON, nothing
/// fetched) with, per guest, the sequence diagram of bring-up and first requests across the four
/// lanes, the findings with their evidence (each linked to its trace line), QEMU's own messages,
/// and the metrics; with two guests, the side-by-side table with the differences highlighted.
/// </summary>
public static class HtmlReport
{
    public static string Write(string path, string title, IReadOnlyList<ReportGuest> guests)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, Render(title, guests));
        return path;
    }

    public static string Render(string title, IReadOnlyList<ReportGuest> guests)
    {
        var data = new
        {
            title,
            lanes = Lanes.Names,
            guests = guests.Select((g, i) => new
            {
                name = g.Name,
                id = $"g{i}",
                stopped = g.Run.StoppedBecause,
                messages = SequenceDiagram.Build(g.Run).Select(m => new { ms = Math.Round(m.Ms, 3), from = m.From, to = m.To, label = m.Label, phase = m.Phase }),
                findings = (g.Verdicts ?? []).Where(v => v.Outcome == RuleOutcome.Violated).SelectMany(v => v.Findings.Select(f => new
                {
                    rule = v.Rule.Id, section = v.Rule.Section, level = v.Rule.LevelName, text = v.Rule.SpecText, what = f.What,
                    evidence = f.Evidence.Select(e => new { line = e.Source.LineNumber, stamp = e.Source.Stamp, what = e.Describe(), raw = e.Source.Raw }),
                })),
                held = (g.Verdicts ?? []).Where(v => v.Outcome == RuleOutcome.Holds).Select(v => $"{v.Rule.Section} {v.Rule.Id}"),
                notObservable = (g.Verdicts ?? []).Where(v => v.Outcome == RuleOutcome.NotObservable).Select(v => $"{v.Rule.Section} {v.Rule.Id}: {v.Why}"),
                qemu = g.Run.Run.QemuStderr.Select(l => l.Text),
                trace = Path.GetFileName(g.TraceFile),
            }),
            rows = guests.Count == 2
                ? SideBySide.Align(guests[0].Run.Steps, guests[1].Run.Steps).Select(r => new { left = r.Left?.Key, right = r.Right?.Key, same = r.Same, phase = (r.Left ?? r.Right)!.Phase.ToString() })
                : null,
            metrics = Metrics.Render(guests.Select(g => (g.Name, Metrics.From(g.Run))).ToList()),
        };
        // The serializer escapes <, > and & (\u003C ...): the JSON cannot close its script element.
        string json = JsonSerializer.Serialize(data);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(System.Net.WebUtility.HtmlEncode(title)).Append("</title>\n<style>").Append(Css).Append("</style></head>\n<body>\n")
            .Append("<h1 id=\"title\"></h1>\n<div id=\"report\"></div>\n")
            .Append("<script type=\"application/json\" id=\"data\">").Append(json).Append("</script>\n")
            .Append("<script>").Append(Script).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private const string Css = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        h2 { border-bottom: 1px solid #ccc; }
        svg text { font: 11px monospace; }
        svg .lane { font: bold 13px system-ui, sans-serif; }
        svg line.lifeline { stroke: #bbb; stroke-dasharray: 4 3; }
        svg line.arrow { stroke: #246; marker-end: url(#head); }
        svg line.arrow.reply { stroke: #888; stroke-dasharray: 5 3; }
        svg rect.phase { fill: #f4f4f4; }
        table { border-collapse: collapse; }
        td, th { border: 1px solid #ddd; padding: 2px 8px; font: 12px monospace; text-align: left; }
        tr.diff td { background: #ffe1e1; font-weight: bold; }
        tr.phase td { background: #eef; font-style: italic; }
        .finding { border-left: 4px solid #c00; padding-left: 8px; margin: 8px 0; }
        .finding .spec { font-style: italic; color: #555; }
        pre { background: #f7f7f7; padding: 6px; overflow-x: auto; }
        .traceline:target { background: #ff0; }
        """;

    // Draws everything from the JSON: nothing is fetched, nothing but this page is needed.
    private const string Script = """
        (function () {
          const data = JSON.parse(document.getElementById('data').textContent);
          const svgNs = 'http://www.w3.org/2000/svg';
          const el = (tag, attrs, text, ns) => {
            const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
            for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
            if (text !== undefined) e.textContent = text;
            return e;
          };
          document.getElementById('title').textContent = data.title;
          const root = document.getElementById('report');

          function diagram(g) {
            const laneW = 260, rowH = 20, top = 40, left = 170;
            const h = top + rowH * (g.messages.length + 1);
            const svg = el('svg', { width: left + laneW * data.lanes.length, height: h, class: 'sequence', 'data-lanes': data.lanes.length, 'data-messages': g.messages.length }, undefined, svgNs);
            const defs = el('defs', {}, undefined, svgNs);
            const head = el('marker', { id: 'head', markerWidth: 8, markerHeight: 8, refX: 8, refY: 4, orient: 'auto' }, undefined, svgNs);
            head.appendChild(el('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#246' }, undefined, svgNs));
            defs.appendChild(head); svg.appendChild(defs);
            const x = i => left + laneW * i + laneW / 2;
            data.lanes.forEach((name, i) => {
              svg.appendChild(el('text', { x: x(i), y: 20, 'text-anchor': 'middle', class: 'lane' }, name, svgNs));
              svg.appendChild(el('line', { x1: x(i), y1: 28, x2: x(i), y2: h, class: 'lifeline' }, undefined, svgNs));
            });
            let phase = null;
            g.messages.forEach((m, n) => {
              const y = top + rowH * (n + 1);
              if (m.phase !== phase) {
                phase = m.phase;
                svg.appendChild(el('rect', { x: 0, y: y - rowH + 4, width: left - 6, height: rowH - 2, class: 'phase' }, undefined, svgNs));
                svg.appendChild(el('text', { x: 2, y: y - 4 }, phase, svgNs));
              }
              svg.appendChild(el('text', { x: left - 6, y: y, 'text-anchor': 'end', fill: '#888' }, m.ms.toFixed(3), svgNs));
              if (m.from === m.to) {
                svg.appendChild(el('text', { x: x(m.from) + 6, y: y }, m.label, svgNs));
                return;
              }
              const reply = m.from === 1 && m.to === 0;
              svg.appendChild(el('line', { x1: x(m.from), y1: y, x2: x(m.to) + (m.to > m.from ? -2 : 2), y2: y, class: 'arrow' + (reply ? ' reply' : '') }, undefined, svgNs));
              const label = el('text', { x: (x(m.from) + x(m.to)) / 2, y: y - 3, 'text-anchor': 'middle', class: 'message' }, m.label, svgNs);
              svg.appendChild(label);
            });
            return svg;
          }

          for (const g of data.guests) {
            const sec = el('section', { id: g.id, class: 'guest' });
            sec.appendChild(el('h2', {}, g.name + (g.stopped ? ' (stopped: ' + g.stopped + ')' : '')));
            sec.appendChild(el('h3', {}, 'Bring-up and first requests'));
            sec.appendChild(diagram(g));
            if (g.findings.length || g.held.length || g.notObservable.length) {
              sec.appendChild(el('h3', {}, 'Rules: ' + g.findings.length + ' finding(s)'));
              g.findings.forEach((f, i) => {
                const d = el('div', { class: 'finding' });
                d.appendChild(el('div', { class: 'rule' }, f.level + ' ' + f.section + ' ' + f.rule + ': ' + f.what));
                d.appendChild(el('div', { class: 'spec' }, '"' + f.text + '"'));
                const ul = el('ul');
                for (const e of f.evidence) {
                  const li = el('li');
                  li.appendChild(el('a', { href: '#' + g.id + '-line-' + e.line }, g.trace + ':' + e.line));
                  li.appendChild(document.createTextNode('  ' + e.stamp + '  ' + e.what));
                  ul.appendChild(li);
                }
                d.appendChild(ul);
                sec.appendChild(d);
              });
              if (g.held.length) sec.appendChild(el('p', { class: 'held' }, 'hold: ' + g.held.join(', ')));
              for (const n of g.notObservable) sec.appendChild(el('p', { class: 'not-observable' }, 'not observable: ' + n));
              const lines = new Map();
              g.findings.forEach(f => f.evidence.forEach(e => lines.set(e.line, e.raw)));
              if (lines.size) {
                sec.appendChild(el('h3', {}, 'Evidence: the trace lines'));
                const pre = el('pre');
                [...lines.keys()].sort((a, b) => a - b).forEach(n => {
                  pre.appendChild(el('span', { id: g.id + '-line-' + n, class: 'traceline' }, g.trace + ':' + n + '  ' + lines.get(n)));
                  pre.appendChild(document.createTextNode('\n'));
                });
                sec.appendChild(pre);
              }
            }
            if (g.qemu.length) {
              sec.appendChild(el('h3', {}, "QEMU's own messages (its reaction)"));
              sec.appendChild(el('pre', { class: 'qemu' }, g.qemu.join('\n')));
            }
            root.appendChild(sec);
          }

          if (data.rows) {
            const sec = el('section', { id: 'side-by-side' });
            sec.appendChild(el('h2', {}, 'Side by side'));
            const table = el('table', { class: 'side-by-side' });
            const hr = el('tr');
            ['#', data.guests[0].name, data.guests[1].name, 'verdict'].forEach(t => hr.appendChild(el('th', {}, t)));
            table.appendChild(hr);
            let phase = null;
            data.rows.forEach((r, i) => {
              if (r.phase !== phase) {
                phase = r.phase;
                const pr = el('tr', { class: 'phase' });
                pr.appendChild(el('td', { colspan: 4 }, r.phase));
                table.appendChild(pr);
              }
              const tr = el('tr', { class: r.same ? 'same' : 'diff' });
              [String(i + 1), r.left || '-', r.right || '-', r.same ? 'same' : 'DIFFERENT'].forEach(t => tr.appendChild(el('td', {}, t)));
              table.appendChild(tr);
            });
            sec.appendChild(table);
            root.appendChild(sec);
          }

          const m = el('section', { id: 'metrics' });
          m.appendChild(el('h2', {}, 'Metrics'));
          m.appendChild(el('pre', {}, data.metrics));
          root.appendChild(m);
        })();
        """;
}
