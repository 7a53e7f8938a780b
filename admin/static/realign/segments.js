// Live SMS segment counter for textareas marked .js-segments (mirrors service/segments.py).
// GSM-7 (basic set + extension table, which costs two septets): 160 in one segment, 153 per
// segment once split. Anything else: UCS-2, 70 UTF-16 units in one segment, 67 once split.
// An escape pair or surrogate pair never straddles two segments (greedy packing).
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var basic = new Set(Array.from(BASIC));
  var extension = new Set(Array.from(EXTENSION));

  function isGsm7(chars) {
    return chars.every(function (ch) { return basic.has(ch) || extension.has(ch); });
  }

  function segmentInfo(text) {
    var chars = Array.from(text); // code points, like Python's str
    var gsm = isGsm7(chars);
    var unitsOf = gsm
      ? function (ch) { return extension.has(ch) ? 2 : 1; }
      : function (ch) { return ch.codePointAt(0) > 0xffff ? 2 : 1; };
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var units = chars.reduce(function (n, ch) { return n + unitsOf(ch); }, 0);
    var encoding = gsm ? "GSM-7" : "UCS-2";
    if (units === 0) return { encoding: encoding, units: 0, segments: 0, perSegment: single };
    if (units <= single) return { encoding: encoding, units: units, segments: 1, perSegment: single };
    var segments = 1, used = 0;
    chars.forEach(function (ch) {
      var size = unitsOf(ch);
      if (used + size > multi) { segments += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, units: units, segments: segments, perSegment: multi };
  }

  var samples = {};
  var sampleNode = document.getElementById("sample-values");
  if (sampleNode) {
    try { samples = JSON.parse(sampleNode.textContent); } catch (e) { samples = {}; }
  }

  function fill(text) {
    return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(samples, name) ? samples[name] : whole;
    });
  }

  // The words, in the facilitator's language (templates/realign/segment_words.html).
  var words = {
    chars: ["{n} character", "{n} characters"],
    typed: ["{n} character typed", "{n} characters typed"],
    standard: "Standard text:",
    longest: "{n} with longest names",
    segments: ["{n} segment", "{n} segments"]
  };
  var wordsNode = document.getElementById("segment-words");
  if (wordsNode) {
    try { words = JSON.parse(wordsNode.textContent); } catch (e) { /* keep English */ }
  }

  function say(forms, n) {
    return (n === 1 ? forms[0] : forms[1]).replace("{n}", String(n));
  }

  function update(area, counter) {
    var own = area.value;
    var text = own.trim() ? own : (area.dataset.default || "");
    var info = segmentInfo(fill(text.replace(/\r\n/g, "\n")));
    var chars = Array.from(own).length;
    var parts = "plain" in counter.dataset  // a text typed as sent: no defaults, no names
      ? say(words.chars, chars) + " · "
      : (own.trim() ? say(words.typed, chars) + " · " : words.standard + " ") +
        words.longest.replace("{n}", String(info.units)) + " · ";
    counter.textContent = parts + info.encoding + " · " + say(words.segments, info.segments);
    counter.dataset.segments = String(info.segments);
    counter.dataset.encoding = info.encoding;
    counter.classList.toggle("over", info.segments > 1);
  }

  window.realignSegmentInfo = segmentInfo;
  document.querySelectorAll(".segment-counter[data-for]").forEach(function (counter) {
    var area = document.getElementById(counter.dataset.for);
    if (!area) return;
    area.addEventListener("input", function () { update(area, counter); });
    update(area, counter);
  });
})();
