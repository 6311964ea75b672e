// SPDX-License-Identifier: MIT
// The report's one inline script: the snapshot slider over the sample grids and the charts' hover read-outs.
// The page's Content-Security-Policy allows exactly this script by its SHA-256 hash, and nothing from the network.
import { createHash } from 'node:crypto';

/**
 * Plain ES2017 in the browser, no library. The page works without it: the last snapshot shows, and the charts are
 * drawn; the script only adds the slider and the read-outs.
 */
export const pageScript = `
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  function fmt(v) {
    if (v === Math.round(v) && Math.abs(v) < 1e6) return String(v);
    return String(Number(v.toPrecision(4)));
  }

  // Snapshot slider: one sample grid shown at a time; the choice survives the live page's reloads.
  var slider = document.getElementById('snapshot');
  if (slider) {
    var frames = document.querySelectorAll('#samples figure.samples');
    var label = document.getElementById('snapshot-label');
    var show = function () {
      var k = Number(slider.value);
      for (var i = 0; i < frames.length; i++) frames[i].hidden = i !== k;
      label.textContent = frames[k].querySelector('figcaption').textContent;
      try {
        sessionStorage.setItem('ilsgan-snapshot', k === frames.length - 1 ? 'last' : label.textContent);
      } catch (e) { /* storage off: the slider still works */ }
    };
    var kept = null;
    try { kept = sessionStorage.getItem('ilsgan-snapshot'); } catch (e) { kept = null; }
    for (var j = 0; kept && kept !== 'last' && j < frames.length; j++) {
      if (frames[j].querySelector('figcaption').textContent === kept) slider.value = String(j);
    }
    slider.hidden = false;
    slider.addEventListener('input', show);
    show();
  }

  // Hover read-outs: the nearest x under the pointer, a guide line, a dot on each series and its value.
  var charts = document.querySelectorAll('svg.chart[data-hover]');
  for (var c = 0; c < charts.length; c++) (function (svg) {
    var d = JSON.parse(svg.getAttribute('data-hover'));
    var left = d.box[0], top = d.box[1], w = d.box[2], h = d.box[3];
    var layer = svg.querySelector('g.hover');
    var guide = layer.querySelector('line.guide');
    var dots = layer.querySelectorAll('circle');
    var text = layer.querySelector('text.readout');
    var hit = svg.querySelector('rect.hit');
    var xs = [];
    d.series.forEach(function (s) { s.points.forEach(function (p) { xs.push(p[0]); }); });
    xs.sort(function (a, b) { return a - b; });
    var sx = function (x) { return left + ((x - d.x[0]) / (d.x[1] - d.x[0])) * w; };
    var sy = function (y) { return top + h - ((y - d.y[0]) / (d.y[1] - d.y[0])) * h; };
    var move = function (evt) {
      var r = svg.getBoundingClientRect();
      var vx = ((evt.clientX - r.left) * svg.viewBox.baseVal.width) / r.width;
      var x = d.x[0] + ((vx - left) / w) * (d.x[1] - d.x[0]);
      var best = xs[0];
      for (var i = 1; i < xs.length; i++) if (Math.abs(xs[i] - x) < Math.abs(best - x)) best = xs[i];
      var lines = [d.xLabel + ' ' + fmt(best)];
      d.series.forEach(function (s, k) {
        var p = null;
        for (var i = 0; i < s.points.length; i++) if (s.points[i][0] === best) { p = s.points[i]; break; }
        dots[k].setAttribute('visibility', p ? 'visible' : 'hidden');
        if (!p) return;
        dots[k].setAttribute('cx', sx(p[0]).toFixed(1));
        dots[k].setAttribute('cy', sy(p[1]).toFixed(1));
        lines.push(s.label + ': ' + fmt(p[1]) + (p.length > 2 ? ' (' + p[2] + ')' : ''));
      });
      var gx = sx(best);
      guide.setAttribute('x1', gx.toFixed(1));
      guide.setAttribute('x2', gx.toFixed(1));
      // The read-out sits on the side away from the pointer, so it never hides the point being read.
      var onLeft = gx > left + w / 2;
      var tx = onLeft ? left + 6 : left + w - 6;
      text.setAttribute('text-anchor', onLeft ? 'start' : 'end');
      while (text.firstChild) text.removeChild(text.firstChild);
      lines.forEach(function (l, k) {
        var t = document.createElementNS(NS, 'tspan');
        t.setAttribute('x', tx.toFixed(1));
        t.setAttribute('dy', k ? '1.25em' : '0');
        t.textContent = l;
        text.appendChild(t);
      });
      layer.setAttribute('visibility', 'visible');
    };
    hit.addEventListener('pointermove', move);
    hit.addEventListener('pointerleave', function () { layer.setAttribute('visibility', 'hidden'); });
  })(charts[c]);
})();
`;

/** The CSP source that allows exactly `pageScript`: 'sha256-<base64>'. */
export const pageScriptHash = `'sha256-${createHash('sha256').update(pageScript, 'utf8').digest('base64')}'`;
