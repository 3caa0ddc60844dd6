import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import { MAX_QUALITY_HEIGHT, languagesProblem, qualityProblem } from '../../config/media-choice.js';
import { constraint } from './validators.js';

const IsQuality = constraint('isQuality', (value) => qualityProblem(value));
const IsLanguageList = constraint('isLanguageList', (value) => languagesProblem(value));

/** A given value (not undefined, not null) is validated; null returns the task to the installation's default. */
const Given = () => ValidateIf((_object, value) => value !== undefined && value !== null);

/** A task's `quality` on create, edit and start. */
export function QualityProperty(nullMeans = "the installation's default (settings defaultQuality)") {
  return applyDecorators(
    ApiPropertyOptional({
      // OpenAPI 3.0 wants `nullable` beside a `type`: it goes on a branch of its own
      oneOf: [
        { type: 'string', enum: ['best', 'audio'] },
        { type: 'integer', minimum: 1, maximum: MAX_QUALITY_HEIGHT },
        { type: 'string', pattern: '^\\d{1,4}p?$' },
        { type: 'string', nullable: true, enum: [null] },
      ],
      example: 1080,
      description:
        `"best"; a maximum picture height (1080, "720p"): the tallest picture not above it, else the smallest offered, with a line in the task log; "audio": the sound alone (.m4a). null: ${nullMeans}`,
    }),
    Given(),
    IsQuality(),
  );
}

/** A task's `audioLanguage` or `subtitleLanguages` on create, edit and start. */
export function LanguagesProperty(what: 'audio' | 'subtitles', nullMeans = "the installation's default") {
  return applyDecorators(
    ApiPropertyOptional({
      oneOf: [{ type: 'array', items: { type: 'string' }, maxItems: 20, nullable: true }, { type: 'string' }],
      example: ['zh', 'en'],
      description:
        what === 'audio'
          ? `BCP-47 tags, best first: the first language the source offers is downloaded, else its default audio (with a line in the task log). A string "zh,en" is read as a list. null: ${nullMeans}`
          : `BCP-47 tags of the subtitles to save beside the file as <name>.<language>.vtt; languages the source lacks are named in the task log; [] for none. A string "zh,en" is read as a list. null: ${nullMeans}`,
    }),
    Given(),
    IsLanguageList(),
  );
}
