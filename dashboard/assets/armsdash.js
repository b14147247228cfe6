/* Clientside callbacks of the dashboard shell (registered in dashboard/shell.py and pages/deals.py).

   They run in the browser, so a filter change reaches the page's own callback without a server
   round trip first (docs/benchmarks.md). They only move text between the URL and the controls:
   every value is read and checked again on the server (dashboard/state.py) before any query.
   `config` is the shell's "shell-config" store: the entity lookup of etl.normalise.entities
   (text key of a name, alias or ISO3 code -> SIPRI's name), the multi-value keys, the global
   keys and the pages' paths.
*/
(function () {
    "use strict";

    var MAX_QUERY = 4000;

    /* Query string -> {key: [values]}: blank values dropped, values trimmed (as state.parse). */
    function parse(search) {
        var out = {};
        if (typeof search !== "string" || !search) {
            return out;
        }
        var text = (search.charAt(0) === "?" ? search.slice(1) : search).slice(0, MAX_QUERY);
        new URLSearchParams(text).forEach(function (value, key) {
            var v = value.trim();
            if (v && key.length <= 20) {
                (out[key] = out[key] || []).push(v);
            }
        });
        return out;
    }

    /* {key: value or list} -> "?a=1&b=x" ("" when nothing is left), empty values dropped (as state.encode). */
    function encode(params) {
        var query = new URLSearchParams();
        Object.keys(params).forEach(function (key) {
            var value = params[key];
            (Array.isArray(value) ? value : [value]).forEach(function (v) {
                if (v !== null && v !== undefined && String(v).trim() !== "") {
                    query.append(key, String(v));
                }
            });
        });
        var text = query.toString();
        return text ? "?" + text : "";
    }

    /* etl.normalise.text.text_key: casefolded, accent-free, whitespace collapsed. */
    function textKey(value) {
        return String(value).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
            .split(/\s+/).filter(Boolean).join(" ");
    }

    function same(a, b) {
        return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
    }

    /* URL values -> what a control shows: SIPRI's names for entities, one value for single controls. */
    function controlValue(key, values, config) {
        if (key === "supplier" || key === "recipient" || key === "entity") {
            var found = [];
            values.forEach(function (v) {
                var name = (config.entities || {})[textKey(v)] || v;
                if (found.indexOf(name) === -1) {
                    found.push(name);
                }
            });
            return key === "entity" ? (found.length ? found[0] : null) : found;
        }
        if ((config.multi || []).indexOf(key) !== -1) {
            return values;
        }
        if (key === "from" || key === "to") {
            return values.length && /^-?\d+$/.test(values[0]) && values[0].length <= 5 ? parseInt(values[0], 10) : null;
        }
        if (!values.length && Object.prototype.hasOwnProperty.call(config.defaults || {}, key)) {
            return config.defaults[key];  // a page's option the URL leaves at its default
        }
        return values.length ? values[0] : null;
    }

    function valueForUrl(value) {
        if (Array.isArray(value)) {
            return value.filter(function (v) { return v !== null && v !== ""; }).map(String);
        }
        return value;
    }

    /* The key of a control's id in a triggering prop id such as '{"key":"map","type":"param"}.value'. */
    function firedKey(propId) {
        try {
            return JSON.parse(propId.slice(0, propId.lastIndexOf("."))).key;
        } catch (e) {
            return null;
        }
    }

    /* components.share_bars's list (an <ol class="share-bars">), drawn from its data-rows attribute
       (JSON: rows of [name, bar %, "TIV (share)"], colour, text when empty). */
    function drawShares(list) {
        var data = null;
        try {
            data = JSON.parse(list.getAttribute("data-rows") || "null");
        } catch (e) {
            data = null;
        }
        if (!data || !Array.isArray(data.rows)) {
            list.replaceChildren();
            return;
        }
        var items = data.rows.slice(0, 50).map(function (row) {
            var name = String(row[0]), width = Math.max(0, Math.min(100, Number(row[1]) || 0));
            var item = document.createElement("li");
            item.className = "d-flex align-items-center mb-1";
            var link = document.createElement("a");
            link.href = "/country?entity=" + encodeURIComponent(name);
            link.textContent = name;
            link.title = name;
            link.className = "text-truncate";
            link.style.width = "32%";
            link.addEventListener("click", function (event) {
                if (event.metaKey || event.shiftKey || event.altKey || event.ctrlKey) { return; }
                event.preventDefault();
                window.history.pushState({}, "", link.getAttribute("href"));
                window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                window.scrollTo(0, 0);
            });
            var track = document.createElement("span");
            track.className = "flex-grow-1 mx-2";
            track.style.height = "1.1rem";
            var bar = document.createElement("span");
            bar.className = "d-block h-100";
            bar.style.width = width + "%";
            bar.style.background = /^#[0-9a-fA-F]{6}$/.test(data.colour) ? data.colour : "#1f77b4";
            track.appendChild(bar);
            var value = document.createElement("span");
            value.className = "text-end text-nowrap";
            value.style.width = "9.5rem";
            value.textContent = String(row[2]);
            item.append(link, track, value);
            return item;
        });
        if (!items.length) {
            var none = document.createElement("li");
            none.className = "text-muted";
            none.textContent = String(data.empty || "");
            items.push(none);
        }
        list.replaceChildren.apply(list, items);
    }

    /* Draw a list when React sets its data-rows, or puts a list into the page: in the same task as
       React's update (observers run right after it), not a render cycle later. */
    new MutationObserver(function (records) {
        records.forEach(function (record) {
            if (record.type === "attributes") {
                drawShares(record.target);
                return;
            }
            record.addedNodes.forEach(function (node) {
                if (node.nodeType !== 1) { return; }
                if (node.matches("ol.share-bars")) {
                    drawShares(node);
                } else if (node.firstElementChild) {  // (grids insert many small nodes)
                    node.querySelectorAll("ol.share-bars").forEach(drawShares);
                }
            });
        });
    }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                           attributeFilter: ["data-rows"]});

    var knownKeys = {};  // the controls the URL sync saw last time: one new to it was just drawn

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        armsdash: {
            /* URL -> controls when the URL changed (link, back button, first load); controls -> URL
               otherwise. Only the controls that fired are written into the URL, on top of what it
               holds: a control that mounts late (a page's own) cannot wipe the others. */
            sync: function (search, values, ids, config) {
                var noUpdate = window.dash_clientside.no_update;
                var none = function () { return noUpdate; };
                if (!Array.isArray(values) || !Array.isArray(ids) || values.length !== ids.length) {
                    return [noUpdate, (Array.isArray(ids) ? ids : []).map(none)];
                }
                config = config || {};
                var params = parse(search);
                var fired = ((window.dash_clientside.callback_context || {}).triggered || [])
                    .map(function (t) { return t && t.prop_id; })
                    .filter(function (p) { return p && p !== "."; });
                var known = knownKeys;
                knownKeys = {};
                ids.forEach(function (id) { knownKeys[id.key] = true; });
                // controls of a page just drawn fire too: the page drew them from the URL, so there
                // is nothing to write back (writing their defaults into the URL drew the page twice)
                if (fired.length && fired.every(function (p) { return p !== "url.search" && !known[firedKey(p)]; })) {
                    return [noUpdate, ids.map(none)];
                }
                if (!fired.length && typeof config.drawn === "string"
                        && config.drawn !== window.location.pathname + window.location.search) {
                    // the server drew another page than this URL's (its Referer was cut short):
                    // dcc.Location reads the address again, and the router draws the right one
                    setTimeout(function () { window.dispatchEvent(new CustomEvent("_dashprivate_pushstate")); }, 0);
                }
                if (!fired.length || fired.indexOf("url.search") !== -1) {
                    return [noUpdate, ids.map(function (id, n) {
                        var shown = controlValue(id.key, params[id.key] || [], config);
                        return same(shown, values[n]) ? noUpdate : shown;
                    })];
                }
                var wanted = Object.assign({}, params);
                ids.forEach(function (id, n) {
                    var quoted = '"' + id.key + '"';
                    if (fired.some(function (p) { return p.indexOf(quoted) !== -1; })) {
                        wanted[id.key] = valueForUrl(values[n]);
                    }
                });
                var next = encode(wanted);
                return [same(parse(next), params) ? noUpdate : next, ids.map(none)];
            },

            /* Links to other pages carry the global filters, so a selection follows the reader;
               "Clear filters" keeps the page and its own keys. Only our own paths: a path such as
               "//evil.example" would make a link leave the site. Answered a moment later (a
               promise): nine links are updated while the page's own request is on its way, not
               before it leaves. */
            navLinks: function (search, pathname, config) {
                config = config || {};
                var paths = config.paths || [];
                var globals = config.global || [];
                var params = parse(search);
                var keep = {}, pageOnly = {};
                Object.keys(params).forEach(function (key) {
                    (globals.indexOf(key) !== -1 ? keep : pageOnly)[key] = params[key];
                });
                var here = paths.indexOf(pathname) !== -1 ? pathname : "/";
                var links = paths.map(function (path) { return path + encode(keep); }).concat([here + encode(pageOnly)]);
                return new Promise(function (resolve) { setTimeout(function () { resolve(links); }, 0); });
            },

            /* A download link (its path as the page drew it) with the view's global filters. */
            downloadHref: function (search, href, config) {
                config = config || {};
                var globals = config.global || [];
                var params = parse(search), keep = {};
                Object.keys(params).forEach(function (key) {
                    if (globals.indexOf(key) !== -1) {
                        keep[key] = params[key];
                    }
                });
                return String(href || "").split("?")[0] + encode(keep);
            }
        }
    });
}());
