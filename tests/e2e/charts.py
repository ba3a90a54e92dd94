"""What the browser tests read from an ECharts chart on the page."""

from __future__ import annotations

#: A JavaScript function for `page.evaluate(LAYOUT, chart_id)`: the vertical extent (chart
#: pixels) of the chart's plot area (axis labels not included), legend and colour scale.
LAYOUT = """(chartId) => {
    const chart = echarts.getInstanceByDom(document.getElementById(chartId));
    const model = chart.getModel();
    const grid = model.getComponent("grid").coordinateSystem.getRect();
    const boxes = {grid: {top: grid.y, bottom: grid.y + grid.height}};
    for (const kind of ["legend", "visualMap"]) {
        const component = model.getComponent(kind);
        if (!component) { continue; }
        const group = chart.getViewOfComponentModel(component).group;
        const r = group.getBoundingRect().clone();
        r.applyTransform(group.getLocalTransform());
        boxes[kind] = {top: r.y, bottom: r.y + r.height};
    }
    return boxes;
}"""
