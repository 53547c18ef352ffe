// Starts GOV.UK Frontend's JavaScript on every page; loaded as
// <script type="module" src="{% static 'web/init.js' %}">, so browsers too old
// for ES modules skip it and the pages work without it, as they must.
import { initAll } from "./govuk-frontend.min.js";

initAll();
