import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_API_ROUTE, ApiEnvelope, ApiErrors, BODY_ROUTE } from '../common/api-envelope.decorator.js';
import { SettingsViewDto } from './settings-view.dto.js';
import { SettingsService } from './settings.service.js';
import { UpdateSettingsDto } from './update-settings.dto.js';

@ApiTags('settings')
@Controller('settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @ApiOperation({ operationId: 'getSettings', summary: 'The settings that can change at run time, with where each value comes from (secrets only as set/unset)' })
  @ApiEnvelope(SettingsViewDto)
  @ApiErrors(ANY_API_ROUTE)
  view(): SettingsViewDto {
    return this.settings.view();
  }

  @Put()
  @ApiOperation({ operationId: 'updateSettings', summary: 'Change settings live for the whole installation; null returns a setting to its environment value' })
  @ApiEnvelope(SettingsViewDto)
  @ApiErrors(ANY_API_ROUTE, BODY_ROUTE)
  update(@Body() body: UpdateSettingsDto): Promise<SettingsViewDto> {
    return this.settings.update(body);
  }
}
