"""Entry point: ``python app.py`` runs the site on the embedded default (SQLite + local index).

On first start it creates the schema, loads the reference data and the demo data, builds the
search index and prints the URL. ``flask --app app ...`` finds ``create_app`` here for the CLI.
"""
from __future__ import annotations

from marketplace import create_app
from marketplace.bootstrap import prepare_site


def main() -> None:
    app = create_app()
    with app.app_context():
        prepare_site(app)
    url = f"http://{app.config['HOST']}:{app.config['PORT']}/"
    print(f"\n  广货网上行 已启动：{url}\n  按 Ctrl+C 停止。\n", flush=True)
    app.run(host=app.config["HOST"], port=app.config["PORT"], debug=False, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
