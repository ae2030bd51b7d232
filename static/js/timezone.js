// Tells the server the browser's time zone (a `tz` cookie; see accounts.timezones), so dates
// read in the reader's zone. A file, not inline: the Content-Security-Policy allows no inline
// script.
(function () {
  var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (tz && document.cookie.indexOf("tz=" + tz) === -1) {
    document.cookie = "tz=" + tz + "; path=/; max-age=31536000; SameSite=Lax";
  }
})();
